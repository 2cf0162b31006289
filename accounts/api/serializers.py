from rest_framework import serializers

from accounts.models import Team, User


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "description", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "is_staff", "teams"]
        read_only_fields = fields
