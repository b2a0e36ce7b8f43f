#!/usr/bin/env python3
"""Drives the coordinator's dashboard in a real browser (Debian's headless chromium
through its chromedriver, with selenium) during a live copy, and writes what it read as
JSON for the test to check:

- the page without a token shows the login form, and a wrong token is refused;
- with the token in the URL fragment, the row of SOURCE in the jobs table, read between
  two reads of GET /v1/status (so the page's numbers can be checked against the API's);
- whether any <img> element or alert appeared (file names must stay text);
- the job's own page, with its event log, and a screenshot of it.

usage: dashboard_check.py BASE_URL SOURCE OUT_JSON SCREENSHOT [--token T] [--timeout S]
"""
import argparse
import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

FIELDS = ["source", "destination", "state", "phase", "files", "bytes", "rate", "eta",
          "pending", "in_flight", "succeeded", "failed", "retrying"]


# One drawing's row of SOURCE in the jobs table: {field: text}.
READ_ROW = """
for (const row of document.querySelectorAll('#jobs tbody tr')) {
  const cells = {};
  for (const td of row.querySelectorAll('td')) cells[td.dataset.field] = td.textContent;
  if (cells.source === arguments[0]) return cells;
}
return null;
"""


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1500,1000", "--no-first-run", "--no-proxy-server"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def status(base, token):
    request = urllib.request.Request(base + "/v1/status", headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def target_of(doc, source):
    for job in doc["jobs"]:
        for target in job["targets"]:
            if target["source"] == source:
                return job, target
    return None, None


def alert_present(driver):
    try:
        driver.switch_to.alert
        return True
    except NoAlertPresentException:
        return False


def until(what, timeout, check):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit("timed out waiting for " + what)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("source")
    p.add_argument("out")
    p.add_argument("screenshot")
    p.add_argument("--token", default="")
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    result = {}
    driver = browser()
    try:
        if a.token:
            driver.get(a.base + "/")
            until("the login form", a.timeout, lambda: driver.find_element(By.ID, "login").is_displayed())
            result["login_without_token"] = True
            driver.find_element(By.ID, "token-input").send_keys("not-the-token")
            driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
            result["wrong_token_message"] = until("the refusal", a.timeout,
                                                  lambda: driver.find_element(By.ID, "login-error").text)
        driver.get(a.base + "/#token=" + a.token)
        result["fragment_removed"] = "token=" not in driver.current_url

        def live_row():
            for row in driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr"):
                cells = {c.get_attribute("data-field"): c.text for c in row.find_elements(By.TAG_NAME, "td")}
                if cells.get("source") == a.source and cells.get("state") == "running" and int(cells.get("succeeded", "0")) > 0:
                    return row
            return None

        until("the live job's row with files done", a.timeout, live_row)
        # The page's numbers come from a read of its own: wait for two redraws after an API
        # read (the second one's request began after it), then read the whole row in one
        # script call (one drawing), then read the API again. A <= page <= B.
        before = status(a.base, a.token)
        drawn = int(driver.execute_script("return document.body.dataset.refreshes || '0'"))
        until("two redraws", a.timeout,
              lambda: int(driver.execute_script("return document.body.dataset.refreshes || '0'")) >= drawn + 2)
        cells = driver.execute_script(READ_ROW, a.source) or {}
        after = status(a.base, a.token)
        result["page"] = cells
        result["before"] = target_of(before, a.source)[1]
        result["after"] = target_of(after, a.source)[1]
        result["job_before"] = target_of(before, a.source)[0]
        result["img_elements"] = len(driver.find_elements(By.TAG_NAME, "img"))
        result["alert"] = alert_present(driver)
        result["title"] = driver.title

        driver.find_element(By.CSS_SELECTOR, "#jobs tbody tr td[data-field=source] a").click()
        until("the job's event log", a.timeout, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#job-log li")) > 0)
        result["job_title"] = driver.find_element(By.ID, "job-title").text
        result["job_log"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#job-log li")]
        result["job_source"] = driver.find_element(By.CSS_SELECTOR, "#job-targets tbody td[data-field=source]").text
        result["img_elements_job_page"] = len(driver.find_elements(By.TAG_NAME, "img"))
        result["alert_job_page"] = alert_present(driver)
        driver.save_screenshot(a.screenshot)
    finally:
        driver.quit()
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
