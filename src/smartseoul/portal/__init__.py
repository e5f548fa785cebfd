"""The city portal: sites and content on web, mobile and TV, public WiFi, smart-device education."""
