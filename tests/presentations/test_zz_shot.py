from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.common.by import By

from tests.conftest import with_password
from tests.grading.test_scoring_pages import scoring_setup
from tests.presentations.test_review_browser import log_in
from presentations.models import Presenter

pytest_plugins = ["tests.browser"]


def test_shot(browser, live_server: LiveServer, transactional_db, personas):
    s = scoring_setup(personas)
    with_password("bob", "secret-password")
    with_password("carol", "secret-password")
    Presenter.objects.filter(student__username="frank").update(pinned=True)
    url = f"{live_server.url}{s.course_url}/presentations/"
    log_in(browser, url, "bob")
    browser.find_element(By.CSS_SELECTOR, "#paper-resnet form.place button").click()
    browser.save_screenshot("/tmp/staff.png")
    browser.delete_all_cookies()
    log_in(browser, url, "carol")
    browser.save_screenshot("/tmp/student.png")
