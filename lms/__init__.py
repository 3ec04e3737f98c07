"""The university's LMS: coursesite as an LTI 1.3 tool (launches, deep links, roster sync through
Names and Role Provisioning Services, grade passback through Assignment and Grade Services)."""
