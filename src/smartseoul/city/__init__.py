"""The city: districts, neighbourhoods, police stations and schools, and the demo city of Seoul."""
