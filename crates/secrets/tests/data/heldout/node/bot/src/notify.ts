import axios from 'axios';

export interface Alert {
  title: string;
  severity: 'info' | 'warning' | 'critical';
  url?: string;
}

const DISCORD_WEBHOOK = 'https://discord.com/api/webhooks/6185084385446523545/aPODUhR2FDAo5uQv-rr7Vn64aAyT7OZS1fo7X8cGtYNj68iucxMZQUnbkTyzv_ibBiar';
const TEAMS_WEBHOOK =
  'https://acmecorp.webhook.office.com/webhookb2/ee000f81-16a1-4f9d-be9e-1b762fa0f827@f2b506db-a2bb-4fa8-9f95-bf7b17176909/IncomingWebhook/6b66f750252303219e827f8b4aaea475/288e1db3-5ed5-4863-adfa-55a3a4048eb3/V2VKCm8KR5123TN1Cfj2iJOiVppoD8_ERqcmv5-Akh9Gh';
const LINEAR_API_KEY = process.env.LINEAR_API_KEY ?? '';

export async function notify(alert: Alert): Promise<void> {
  const text = `[${alert.severity.toUpperCase()}] ${alert.title}${alert.url ? ` ${alert.url}` : ''}`;
  await Promise.all([
    axios.post(DISCORD_WEBHOOK, { content: text }),
    axios.post(TEAMS_WEBHOOK, { text }),
  ]);
  if (alert.severity === 'critical' && LINEAR_API_KEY) {
    await axios.post('https://api.linear.app/graphql', { query: 'mutation { issueCreate(input: {title: "x"}) { success } }' },
      { headers: { Authorization: LINEAR_API_KEY } });
  }
}
