"""HTTP: the REST API of SPEC section 4, live events, and the engineers' dashboard."""
