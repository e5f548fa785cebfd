"""The multi-site content store of the city's ~200 sites: pages, news, events, search, SEO, N-screen."""
