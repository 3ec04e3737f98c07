"""coursesite as an LTI 1.3 tool: the LMS's login initiation, the launch, and the pages that follow
a launch (linking an LMS course to its coursesite course, placing links in the LMS course)."""
