"""Issued documents: PAdES-signed PDFs with a verification number and QR code, revocation, /verify."""
