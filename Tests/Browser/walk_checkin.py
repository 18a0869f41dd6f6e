#!/usr/bin/env python3
"""Walks online check-in in a real browser, as a guest on a phone would.

Debian's chromium and chromium-driver, driven by selenium: a phone's viewport (390x844
unless the walk says otherwise; mobile emulation), JavaScript off. On every page it asserts the page's language
(`<html lang>`), that nothing scrolls sideways, that every input, select and button
is labelled, and it takes a screenshot. It reads only the pages: what it fills in and
clicks is what a guest sees.

Usage: walk_checkin.py PLAN.json SCREENSHOT_DIR
PLAN: {"portal": "http://127.0.0.1:PORT", "walks": [{"link": URL, "language": "es",
       "accept_language": "es-ES,es", "viewport": [360, 780] (optional), "switch_from": "en" (optional: the pages come in it,
       and the guest switches with the footer's link), "companions": N, "invite": true|false,
       "done_heading": "…", "wifi": "…"}]}
Prints one line per page; exits 1 with the reasons when any check failed.
"""
import json
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

# A guest every registration profile accepts: British, an adult, everything given.
GUEST = {
    "first_name": "John", "last_name": "Smith", "sex": "male", "date_of_birth": "1980-02-29",
    "place_of_birth": "Leeds", "nationality": "GB", "document_type": "passport", "document_number": "123456789",
    "document_issuing_country": "GB", "address": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA",
    "country": "GB", "email": "john@example.com", "phone": "+44 113 496 0000",
}
COMPANION = dict(GUEST, first_name="Mary", email="mary@example.com", document_number="987654321")


class Walk:
    def __init__(self, driver, shots):
        self.driver = driver
        self.shots = shots
        self.failures = []
        self.pages = 0

    def fail(self, what):
        self.failures.append(f"{self.driver.current_url}: {what}")

    def open(self, url, language):
        self.driver.get(url)
        self.check(language)

    def check(self, language):
        """The checks every page gets; read again if the document was replaced meanwhile."""
        for attempt in range(3):
            try:
                return self.check_once(language)
            except (StaleElementReferenceException, WebDriverException) as error:
                if attempt == 2 or "timeout" in str(error).lower():
                    raise
                self.settle()

    def check_once(self, language):
        driver = self.driver
        self.pages += 1
        path = driver.current_url.split("//", 1)[-1].split("/", 1)[-1]
        driver.save_screenshot(os.path.join(self.shots, f"{self.pages:02d}.png"))
        lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if lang != language:
            self.fail(f"lang is {lang!r}, expected {language!r}")
        # Read by the driver (the page's own scripts are off): the layout's widths.
        scroll, view = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > view:
            self.fail(f"scrolls sideways: content {scroll}px wide in a {view}px viewport")
        for control in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
            if not self.labelled(control):
                self.fail(f"{control.tag_name} name={control.get_attribute('name')!r} has no label")
        for button in driver.find_elements(By.CSS_SELECTOR, "button"):
            if not button.get_attribute("textContent").strip():
                self.fail("a button without text")
        print(f"ok {lang} {scroll}/{view}px /{path}")

    def labelled(self, control):
        if (control.get_attribute("aria-label") or "").strip() or control.get_attribute("aria-labelledby"):
            return True
        ident = control.get_attribute("id")
        if ident:
            for label in self.driver.find_elements(By.CSS_SELECTOR, f'label[for="{ident}"]'):
                if label.get_attribute("textContent").strip():
                    return True
        try:
            return bool(control.find_element(By.XPATH, "ancestor::label").get_attribute("textContent").strip())
        except NoSuchElementException:
            return False

    def click(self, css, language):
        """Clicks a link or a form's button, and checks the page it leads to once it is there."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, css).click()

        def replaced(_):
            # Gone once asking after the old page fails: Chromium says "stale element", or, caught
            # mid-navigation, "Node with given id does not belong to the document".
            try:
                page.is_enabled()
                return False
            except (StaleElementReferenceException, WebDriverException):
                return True
        WebDriverWait(self.driver, 10).until(replaced)
        self.settle()
        self.check(language)

    def settle(self):
        """Waits until the page that replaced the last one has loaded: a form's POST and
        its 303 are one navigation, but the old document can linger for a moment."""
        WebDriverWait(self.driver, 10, ignored_exceptions=[WebDriverException]).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
            and driver.find_element(By.TAG_NAME, "body") is not None)

    def fill(self, values, language):
        """Fills in the registration form on the page and sends it."""
        form = self.driver.find_element(By.CSS_SELECTOR, "form")
        for control in form.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select"):
            value = values.get(control.get_attribute("name"))
            if value is None:
                continue
            if control.tag_name == "select":
                Select(control).select_by_value(value)
            elif control.get_attribute("type") == "date":
                # A date picker's typed order follows the browser's locale; the picker's result is the ISO value.
                self.driver.execute_script("arguments[0].value = arguments[1]", control, value)
            else:
                control.clear()
                control.send_keys(value)
        self.click("form button[type=submit]", language)

    def path(self):
        return "/" + self.driver.current_url.split("//", 1)[-1].split("/", 1)[-1].split("?")[0]

    def expect_path_end(self, ending):
        if not self.path().endswith(ending):
            self.fail(f"expected a page ending in {ending!r}")
            raise RuntimeError(f"lost at {self.driver.current_url}; expected …{ending}")

    def check_in(self, walk):
        language = walk["language"]
        if walk.get("switch_from"):
            # The phone's language first; the guest picks theirs in the footer, and it stays.
            self.open(walk["link"], walk["switch_from"])
            self.click(f'nav.languages a[hreflang="{language}"]', language)
        else:
            self.open(walk["link"], language)                     # welcome
        self.click("a.button", language)                          # → confirm
        self.expect_path_end("/confirm")
        self.click("form button[type=submit]", language)          # → details
        self.expect_path_end("/details")
        self.fill(GUEST, language)                                # → companions (or terms)
        if walk["companions"]:
            self.expect_path_end("/companions")
            main = self.driver.current_window_handle
            if walk.get("invite"):
                # The companion's own phone: an invite link with its QR code, claimed, details given.
                self.click("ul.companions form button[type=submit]", language)
                claim = self.driver.find_element(By.CSS_SELECTOR, "p.url a").get_attribute("href")
                self.driver.switch_to.new_window("tab")
                self.open(claim, language)
                self.click("form button[type=submit]", language)  # claim my place
                self.fill(COMPANION, language)
                self.driver.close()
                self.driver.switch_to.window(main)
                self.driver.get(walk["link"].rstrip("/") + "/companions")
                self.check(language)
            else:
                self.click("ul.companions a", language)           # fill in the place
                self.fill(COMPANION, language)
                self.expect_path_end("/companions")
            self.click("a.button", language)                      # continue → terms
        self.expect_path_end("/terms")
        name = self.driver.find_element(By.ID, "f-name")
        name.send_keys(f"{GUEST['first_name']} {GUEST['last_name']}")
        self.click("form button[type=submit]", language)          # sign → arrive
        self.expect_path_end("/arrive")
        self.click("form button[type=submit]", language)          # check in now → done
        self.expect_path_end("/done")
        body = self.driver.find_element(By.TAG_NAME, "body").text
        for text in [walk["done_heading"], walk["wifi"]]:
            if text not in body:
                self.fail(f"the done page lacks {text!r}")


def browser(accept_language, width, height):
    """Headless Chromium as a phone: its viewport, JavaScript off, the guest's languages."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
        options.add_argument(argument)
    # No touch emulation: with it, chromedriver 156's click never returns on a page without scripts.
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": False},
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    })
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2,
                                              "intl.accept_languages": accept_language})
    # The Debian driver, never one fetched from the network.
    os.environ["SE_OFFLINE"] = "true"
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    driver.set_page_load_timeout(20)
    return driver


def main():
    plan = json.load(open(sys.argv[1]))
    shots = sys.argv[2]
    failures = []
    for number, walk in enumerate(plan["walks"]):
        width, height = walk.get("viewport", [390, 844])
        driver = browser(walk["accept_language"], width, height)
        guest = Walk(driver, os.path.join(shots, f"walk{number + 1}-{walk['language']}"))
        os.makedirs(guest.shots, exist_ok=True)
        try:
            # JavaScript is off: a page's own script does not run.
            driver.get("data:text/html,<title>off</title><script>document.title='on'</script>")
            if driver.title != "off":
                guest.fail("JavaScript is not disabled")
            # The portal's other guest pages, in the walk's language.
            for page in ["/", "/arrive"]:
                guest.open(f"{plan['portal']}{page}?lang={walk['language']}", walk["language"])
            shown = driver.execute_script("return window.innerWidth")
            if shown != width:
                guest.fail(f"the viewport is {shown}px wide, not {width}")
            guest.check_in(walk)
        except Exception as error:  # noqa: BLE001 - reported with the page it happened on
            guest.fail(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        finally:
            driver.quit()
        failures += guest.failures
        print(f"walk {number + 1} ({walk['language']}): {guest.pages} pages checked, {len(guest.failures)} failed")
    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
