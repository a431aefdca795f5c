import datetime
from slack_sdk import WebClient

USER_TOKEN = "xoxp-731109050643-102885584112-680262405673-458f267de97ff378878fb75ac3d6e9d5"
APP_TOKEN = "xapp-1-AQRCAVPLXZY-2809078729897-6c73203e7c3596ede1b00ddb3ffe8ada72fbc0749c29ac124fc91a13f20f37c8"  # socket mode
CHANNEL = "CO3UBZW2RY5"

client = WebClient(token=USER_TOKEN)
week = datetime.date.today().isocalendar().week
client.chat_postMessage(channel=CHANNEL, text=f"Weekly cost report, week {week}: see the dashboard.")
