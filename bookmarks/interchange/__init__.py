"""Moving bookmarks in and out: Netscape HTML and Pinboard JSON files, import jobs, export, feeds."""
