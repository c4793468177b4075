"""The pages: one module per page, each a render(ctx) function holding layout only."""
