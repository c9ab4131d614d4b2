#!/usr/bin/env python3
"""The console in a real browser: headless Chromium (Debian's chromium and chromium-driver,
driven by selenium) loads /console from a live server, a commissioned device posts a signed
energy report, and the page must show it — the event in the live feed, a new point on the price
chart, the auto-listed energy in the order book, the minted LT in the ledger panel. Saves a
screenshot (the CI artefact, and the picture in the README).

    scripts/console-test.py [--bin .build/debug] [--screenshot .ci/artifacts/console.png]

Needs `selenium` and `cryptography` from PyPI, like scripts/crash-test.py, whose helpers it uses.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("crash_test", os.path.join(here, "crash-test.py"))
crash_test = importlib.util.module_from_spec(spec)
spec.loader.exec_module(crash_test)


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1750"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug")
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--screenshot", default=".ci/artifacts/console.png")
    args = parser.parse_args()
    binary = os.path.abspath(os.path.join(args.bin, "stelltron"))
    config, database = crash_test.scratch_setup(args.bin)
    server = crash_test.start(binary, config, database, args.port)
    driver = None
    failures = []
    try:
        proof = json.loads(subprocess.check_output([os.path.join(args.bin, "stelltron-bench"), "wallet"]))
        crash_test.request(args.port, "POST", "/api/v1/auth/signup", proof)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        device_key = Ed25519PrivateKey.generate()
        public_key = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        subprocess.check_call([binary, "call", "iot.commission", json.dumps({
            "device_id": "rpi-console", "public_key": public_key, "rated_kw": 1000000, "owner_id": proof["wallet_address"]}),
            "--config", config, "--database", database], stdout=subprocess.DEVNULL)

        driver = browser()
        driver.get(f"http://127.0.0.1:{args.port}/console")
        wait = WebDriverWait(driver, 15)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plugins tbody tr")) == 5)
        wait.until(lambda d: "live" in d.find_element(By.ID, "status").get_attribute("class"))
        price_points = int(driver.find_element(By.ID, "price-chart").get_attribute("data-points"))
        levels = int(driver.find_element(By.ID, "depth-chart").get_attribute("data-levels"))

        status, body = crash_test.request(args.port, "POST", "/iot/energy/report",
                                          {"device_id": "rpi-console", "kwh_transferred": 2.5, "avg_voltage": 3.9, "report_id": "console-1"},
                                          device_key=device_key)
        if status != 201 and status != 200:
            failures.append(f"the energy report answered {status}: {body}")

        def updated(d):
            feed = [item.get_attribute("data-type") for item in d.find_elements(By.CSS_SELECTOR, "#feed li")]
            points = int(d.find_element(By.ID, "price-chart").get_attribute("data-points"))
            depth = int(d.find_element(By.ID, "depth-chart").get_attribute("data-levels"))
            minted = d.find_element(By.ID, "ledger").text.split("\n")[1:2]
            return "energy_mint" in feed and points > price_points and depth > levels and minted not in ([], ["0 LT"])
        try:
            wait.until(updated)
        except Exception:
            failures.append("the page did not show the report: feed "
                            f"{[i.get_attribute('data-type') for i in driver.find_elements(By.CSS_SELECTOR, '#feed li')]}, "
                            f"price points {driver.find_element(By.ID, 'price-chart').get_attribute('data-points')} (were {price_points}), "
                            f"depth levels {driver.find_element(By.ID, 'depth-chart').get_attribute('data-levels')} (were {levels}), "
                            f"ledger {driver.find_element(By.ID, 'ledger').text!r}")
        # A little history for the picture: more reports, each listing more energy and moving the price.
        for number in range(2, 8):
            time.sleep(1.1)
            crash_test.request(args.port, "POST", "/iot/energy/report",
                               {"device_id": "rpi-console", "kwh_transferred": 0.5 * number, "avg_voltage": 3.9,
                                "report_id": f"console-{number}"}, device_key=device_key)
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        if errors:
            failures.append(f"the browser logged errors: {errors}")
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        time.sleep(1.0)  # let the last redraw land in the picture
        driver.save_screenshot(args.screenshot)
    finally:
        if driver:
            driver.quit()
        server.terminate()
        server.wait(timeout=15)
    if failures:
        print("console test FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"console test: feed, price chart, order book and ledger updated after one energy report; screenshot {args.screenshot}")


if __name__ == "__main__":
    main()
