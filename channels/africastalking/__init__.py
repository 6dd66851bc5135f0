"""Africa's Talking: SMS sent through the official SDK, its delivery reports, and USSD."""
