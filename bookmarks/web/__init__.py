"""The site's pages: views, forms, the list's paging, and the middleware for time zones."""
