"""The web application: the FastAPI app assembled from each domain's routers, pages and assets."""
