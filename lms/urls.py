"""The tool's URLs for the LMS (fixed: LMS registrations name them) and the pages that follow a
launch; then the staff pages of an LMS link."""

from django.urls import include, path
from lti_tool.views import jwks

from lms.launch.views import LaunchView, LoginView, deep_link_page, link_page

urlpatterns = [
    path("lti/login/", LoginView.as_view(), name="lti-login"),
    path("lti/launch/", LaunchView.as_view(), name="lti-launch"),
    path("lti/jwks/", jwks, name="lti-jwks"),
    path("lti/link/", link_page, name="lti-link"),
    path("lti/deep-link/", deep_link_page, name="lti-deep-link"),
    path("", include("lms.staff_urls")),
]
