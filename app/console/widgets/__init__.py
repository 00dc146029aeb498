"""The console's widgets: thin views over the view models (DESIGN §3)."""
