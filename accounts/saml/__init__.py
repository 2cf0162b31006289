"""Single sign-on with SAML 2.0 (djangosaml2 + pysaml2): Steward as the service provider."""
