"""Reports people can look at: the monthly work report, lateness and wellness trends."""
