"""The video wall: the fullscreen wall display process and the console's wall control panel.

- :mod:`.model`: what a wall shows, decided without a screen (layout → cells, map, clock, notices, status).
- :mod:`.link`: the wall's link to the engine (session, media grant, layout, live feed), owning every task.
- :mod:`.window`: the fullscreen, frameless window; :mod:`.runner`: ``run_wall`` (``main.py wall``).
- :mod:`.control`: the control panel's view model; :mod:`.panel`: the console dock that drives the walls.
"""
