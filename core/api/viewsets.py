"""The base of the API's viewsets: reads through one permission-scoped selector
(``base_queryset``), writes parse their input with ``input_serializers[action]`` and hand it to a
service, lists are filtered by the view's FilterSet (``core.filters``) and paged by the API's
pagination. Every app's viewsets build on :class:`ServiceViewSet`."""

from __future__ import annotations

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response


class ServiceViewSet(viewsets.GenericViewSet):
    """A viewset whose writes parse input with ``input_serializers[action]`` and hand the
    validated data to a service; reads use ``serializer_class``."""

    input_serializers: dict[str, type[serializers.Serializer]] = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.serializer_class)

    def parse(self, request, *, partial: bool = False) -> dict:
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        # Re-read through the selector so annotations and relations are present.
        fresh = self.base_queryset().get(pk=instance.pk)
        context = self.get_serializer_context()
        return Response(self.serializer_class(fresh, context=context).data, status=status_code)

    def base_queryset(self):
        """The rows the user may see, from the app's selector."""
        raise NotImplementedError

    def detail_read(self):
        """For a retrieve: the record the URL names as ``base_queryset`` would give it, read
        another way (a precompiled selector), or None if the user may not see it or there is
        none. ``NotImplemented`` (the default): ``get_object`` filters ``base_queryset``."""
        return NotImplemented

    def get_object(self):
        if self.action == "retrieve":
            found = self.detail_read()
            if found is None:
                model = self.serializer_class.Meta.model
                raise Http404(f"No {model._meta.object_name} matches the given query.")
            if found is not NotImplemented:
                self.check_object_permissions(self.request, found)
                return found
        return super().get_object()

    def filter_queryset(self, queryset):
        """List filters and ordering shape lists; a single record is named by its URL and
        restricted by ``base_queryset``, so reading one skips compiling them."""
        if self.action not in ("list", None):
            return queryset
        unfiltered = self._no_filter_asked()
        for backend in self.filter_backends:
            # A FilterSet given none of its parameters leaves the queryset as it is; building
            # it (a form, its fields copied) was a sixth of a plain list's time.
            if not (unfiltered and issubclass(backend, DjangoFilterBackend)):
                queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def _no_filter_asked(self) -> bool:
        """Whether the query string holds no parameter the FilterSet of this view reads (it
        ignores the others: page, page size, ordering, format)."""
        filterset = getattr(self, "filterset_class", None)
        names = set(filterset.base_filters) if filterset is not None else set()
        return not names & set(self.request.query_params)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return self.serializer_class.Meta.model.objects.none()
        return self.base_queryset()
