"""The life cycle in vertical slices: each module declares its event types (model, decide,
evolve, reads, roles, example) next to each other. ``app.events.registry`` gathers them."""
