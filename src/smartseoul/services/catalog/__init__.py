"""The catalogue of city services, their channels and assurance levels; the mobile channel-coverage report."""
