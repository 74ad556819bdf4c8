"""One rule for which token scope a request needs: reads need the view's read scope, writes its write scope."""

import pytest

from apps.core.api.scopes import ReadWriteScopes, required_scope


class Catalog(ReadWriteScopes):
    read_scope = "catalog:read"
    write_scope = "catalog:write"


class ReadOnly(ReadWriteScopes):
    read_scope = "statements:read"


class WithOverride(Catalog):
    required_scopes = {"POST": "periods:write"}


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_need_the_read_scope(method):
    assert required_scope(Catalog(), method) == "catalog:read"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_other_method_needs_the_write_scope(method):
    assert required_scope(Catalog(), method) == "catalog:write"


def test_a_view_without_a_write_scope_names_none_for_writes():
    assert required_scope(ReadOnly(), "POST") is None
    assert required_scope(ReadWriteScopes(), "GET") is None


def test_required_scopes_overrides_the_pair_for_its_methods_only():
    view = WithOverride()
    assert required_scope(view, "POST") == "periods:write"
    assert required_scope(view, "PATCH") == "catalog:write"
    assert required_scope(view, "HEAD") == "catalog:read"
