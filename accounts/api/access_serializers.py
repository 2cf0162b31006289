"""Serializers of teams, memberships and role assignments (administrators write them)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.choices import RoleName
from accounts.models import Role, RoleAssignment, Team, TeamMembership, User


class RoleSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="get_name_display", read_only=True)

    class Meta:
        model = Role
        fields = ["name", "title", "description", "qualifications", "updated_at"]
        read_only_fields = ["name", "title", "updated_at"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    role = serializers.ChoiceField(choices=RoleName.choices, source="role.name")
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role", "team", "source", "granted_by", "note", "created_at"]
        read_only_fields = ["id", "source", "granted_by", "created_at"]


class TeamWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    # Leave it out to derive it from the name; an empty one is refused like any invalid slug.
    slug = serializers.SlugField(max_length=64, required=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())

    class Meta:
        model = TeamMembership
        fields = ["user", "source", "created_at"]
        read_only_fields = ["source", "created_at"]
