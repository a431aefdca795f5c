from openai import OpenAI
from anthropic import Anthropic

openai_client = OpenAI(api_key="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")
claude = Anthropic(api_key='sk-ant-api03-2xJ7Fj4mgblEv0-9BZhvWaXH6K2-tyLBhhOhg9uhkxiiEZpFfk1OHAOEHYqM6Ojb6mjBHqSiFVKu4MbMnrHontIKARAH-AA')
HF_TOKEN = "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"
GROQ_API_KEY = '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'
def password_ok(password: str) -> bool:
    return len(password) >= 12
token = request.headers.get('Authorization')
api_key = os.getenv('API_KEY')
