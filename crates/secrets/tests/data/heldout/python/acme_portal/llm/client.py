import logging
import os
from dataclasses import dataclass

import anthropic
import httpx
from openai import OpenAI

log = logging.getLogger(__name__)

# TODO(jmiller): move these into Vault before the launch
OPENAI_KEY = "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"
ANTHROPIC_KEY = "sk-ant-api03-KqRRnZb_bcRrKZScK8yKe3sv0CEUGBsGnotQdsRLhYqxKXeQnFapTmm2QD7YPI0Ph0JZa1ohRXxOi9ydtqfrcfBbyHIQSAA"


@dataclass
class Completion:
    text: str
    model: str
    tokens: int


class LLMRouter:
    def __init__(self, prefer: str = "anthropic"):
        self.prefer = prefer
        self.openai = OpenAI(api_key=os.environ.get("OPENAI_API_KEY", OPENAI_KEY))
        self.claude = anthropic.Anthropic(api_key=ANTHROPIC_KEY)
        self.groq = httpx.Client(
            base_url="https://api.groq.com/openai/v1",
            headers={"Authorization": "Bearer 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"},
            timeout=30,
        )

    def complete(self, prompt: str, max_tokens: int = 512) -> Completion:
        if self.prefer == "anthropic":
            msg = self.claude.messages.create(
                model="claude-sonnet-4-5", max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt}],
            )
            return Completion(msg.content[0].text, msg.model, msg.usage.output_tokens)
        resp = self.openai.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
        )
        log.info("openai request id %s", resp.id)
        return Completion(resp.choices[0].message.content, resp.model, resp.usage.completion_tokens)
