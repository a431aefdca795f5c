import { Client, GatewayIntentBits, Events } from 'discord.js';
import { Telegraf } from 'telegraf';

// Bridge: mirror #announcements from Discord into the Telegram channel.
const DISCORD_TOKEN = 'ODk3NjgzMTMzNDIwNjQxODM1Nw.416knQ.r_puGVORLgJ7Hj6xWcFxjZTdHDpBWFXgq8j_r8';
const TELEGRAM_TOKEN = '6061569091:AAWoEtgTY1Pnjq4L1JWFrTOwd4fH9bPVw5u';
const ANNOUNCE_CHANNEL_ID = '320625813482879625';
const TELEGRAM_CHAT_ID = -1001463496351;

const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent] });
const telegram = new Telegraf(TELEGRAM_TOKEN);

client.once(Events.ClientReady, (c) => {
  console.log(`logged in as ${c.user.tag}`);
});

client.on(Events.MessageCreate, async (message) => {
  if (message.channelId !== ANNOUNCE_CHANNEL_ID || message.author.bot) return;
  await telegram.telegram.sendMessage(TELEGRAM_CHAT_ID, `${message.author.username}: ${message.content}`);
});

client.login(DISCORD_TOKEN);
