"""Mobile civil services: catalogue, identity, complaints, reservations, certificates, payments."""
