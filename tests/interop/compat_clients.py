#!/usr/bin/env python3
"""Drives the real PyPI clients against a running tryvoha server, as their users would.

Usage: compat_clients.py BASE_URL READER_TOKEN SCENARIO
Scenarios (the caller declares the alerts first; see crates/tryvoha/tests/api/compat.rs):
  alerts_in_ua  - the official alerts-in-ua 0.4.x client: active alerts, the If-Modified-Since
                  path, IoT strings v1 and v2, history.
  ukrainealarm  - ukrainealarm 0.0.1 with a key, and uasiren 0.0.1 without one (Home Assistant).
  ua_alarm_subscribe URL, ua_alarm_unsubscribe URL
                - ua-alarm 1.3.7.2's webhook calls (POST, PATCH; DELETE) with {"webHookUrl": URL}.
Prints one JSON line with what the clients returned; exits non-zero on any exception."""
import asyncio
import json
import sys


def alerts_in_ua(base, token):
    from alerts_in_ua import Client
    Client.API_BASE_URL = base
    client = Client(token=token)
    active = client.get_active_alerts()
    again = client.get_active_alerts()  # conditional GET: 304 path
    by_oblast = client.get_air_raid_alert_statuses_by_oblast()
    kyiv_oblast = client.get_air_raid_alert_status(14)
    history = client.get_alerts_history(14, period="month_ago")
    red = client.get_air_raid_alert_status(14, include_alert_level=True)
    by_oblast_levels = client.get_air_raid_alert_statuses_by_oblast(include_alert_level=True)
    every_uid = client.get_air_raid_alert_statuses()
    return {
        "kyiv_oblast_v2": f"{red.status} {red.alert_level}",
        "by_oblast_v2": [f"{s.status} {s.alert_level}" for s in by_oblast_levels],
        "every_uid_count": len(list(every_uid)),
        "active_uids": sorted(str(a.location_uid) for a in active),
        "active_types": sorted(str(a.alert_type) for a in active),
        "second_call_count": len(again),
        "by_oblast": [str(s.status) for s in by_oblast],
        "kyiv_oblast": str(kyiv_oblast),
        "history_uids": sorted(str(a.location_uid) for a in history),
    }


async def ukrainealarm(base, token):
    import aiohttp
    import ukrainealarm.client as keyed
    import uasiren.client as keyless
    keyed.Client.BASE_PATH = base + "/api/v3"
    keyless.Client.BASE_PATH = base + "/api/v3"
    async with aiohttp.ClientSession() as session:
        client = keyed.Client(session, token)
        regions = await client.get_regions()
        alerts = await client.get_alerts()
        one = await client.get_alerts(14)
        index = await client.get_last_alert_index()
        siren = keyless.Client(session)
        ha = await siren.get_alerts(711)
        return {
            "states": len(regions["states"]),
            "alert_regions": sorted(a["regionId"] for a in alerts),
            "kyiv_oblast_types": sorted(a["type"] for a in one[0]["activeAlerts"]),
            "last_index": index,
            "home_assistant_711": sorted(a["type"] for a in ha[0]["activeAlerts"]),
        }


async def ua_alarm_webhook(base, token, action, url):
    from ua_alarm import Client
    client = Client.__new__(Client)  # __init__ makes a live request to the real upstream
    client.base_url = base
    client.headers = {"Authorization": token}
    if action == "subscribe":
        subscribed = await client.subscribe_to_webhook({"webHookUrl": url})
        await client.update_webhook({"webHookUrl": url})  # returns None by its signature
        return {"subscribed": subscribed.webHookUrl, "changed": True}
    await client.unsubscribe_from_webhook({"webHookUrl": url})
    return {"unsubscribed": url}


if __name__ == "__main__":
    base, token, scenario = sys.argv[1:4]
    if scenario.startswith("ua_alarm_"):
        result = asyncio.run(ua_alarm_webhook(base, token, scenario[len("ua_alarm_"):], sys.argv[4]))
    elif scenario == "alerts_in_ua":
        result = alerts_in_ua(base, token)
    else:
        result = asyncio.run(ukrainealarm(base, token))
    print(json.dumps(result, default=str))
