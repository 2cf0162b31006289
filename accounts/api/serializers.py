from rest_framework import serializers

from accounts.models import Team, User


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "description", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "is_staff", "teams", "roles"]
        read_only_fields = fields

    def get_roles(self, user) -> list[dict]:
        return [
            {"role": a.role.name, "team": a.team.slug if a.team_id else None, "source": a.source}
            for a in user.role_assignments.select_related("role", "team")
        ]
