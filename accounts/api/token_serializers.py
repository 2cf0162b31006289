"""What the token and login-audit endpoints read and write. A token's hash never leaves the
server; its secret leaves it once, in the answer to its creation."""

from __future__ import annotations

from rest_framework import serializers

from accounts.choices import TokenScope
from accounts.models import ApiToken, LoginEvent
from accounts.services.tokens import NAME_MAX_LENGTH


class ApiTokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "last_used_ip",
            "active",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    """A new token for the signed-in user. There is no user field: nobody creates a token for
    someone else (a ``user`` in the request is ignored)."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices), allow_empty=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The token itself. Shown only in this response: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class LoginEventSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = LoginEvent
        fields = [
            "id",
            "created_at",
            "username",
            "user",
            "method",
            "outcome",
            "ip_address",
            "user_agent",
            "detail",
            "subject",
        ]
        read_only_fields = fields
