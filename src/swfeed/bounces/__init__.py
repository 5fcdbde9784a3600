"""Bounces and complaints: reading the mails that come back, and acting on them."""
