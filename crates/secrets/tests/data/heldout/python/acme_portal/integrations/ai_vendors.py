"""Clients for the smaller model vendors we benchmark against."""
import requests

PERPLEXITY_API_KEY = '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'
REPLICATE_API_TOKEN = 'r8_cUBMswDsTemXeGERBlnWELK2GlIxeeDbYm9Vk'
XAI_API_KEY = 'xai-msON2zQwA8CM0oEy7Wat5irnUYy5Fp1mLSZFWNigu8VQQAz0AtRTM4ax0WFS0IdRqtrsfkxwbZzApksS'
LEGACY_OPENAI_KEY = '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'  # old org, still used by the nightly eval

EVAL_RUN_ID = "e9c64ad4-f5f0-4d94-bdbd-aed5068d07df"
MODEL_REVISION = "b071ecff4e48370d1c6a3df10733eb3190cc8228"


def ask_perplexity(q):
    r = requests.post(
        "https://api.perplexity.ai/chat/completions",
        headers={"Authorization": f"Bearer {PERPLEXITY_API_KEY}"},
        json={"model": "sonar", "messages": [{"role": "user", "content": q}]},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()["choices"][0]["message"]["content"]


def run_replicate(version, inputs):
    r = requests.post(
        "https://api.replicate.com/v1/predictions",
        headers={"Authorization": f"Token {REPLICATE_API_TOKEN}"},
        json={"version": version, "input": inputs},
        timeout=60,
    )
    return r.json()["urls"]["get"]
