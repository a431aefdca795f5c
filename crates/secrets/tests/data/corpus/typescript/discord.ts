import { WebhookClient } from 'discord.js';

const hook = new WebhookClient({ url: 'https://discord.com/api/webhooks/904966319314919058/2ViRb1-n3U6t3wI973IPFlJ5F7WRd_Px-BTHRJJbykE0-E8-5clLCZFNV8S2QT6INGDp' });
const TELEGRAM_BOT_TOKEN: string = "3518233749:AAKmyLDUwMbqJfgLq-nbK894RxgG9oiZ-jg";
export async function notify(text: string): Promise<void> {
  await hook.send({ content: text });
}
const password: string = getPasswordFromVault();
