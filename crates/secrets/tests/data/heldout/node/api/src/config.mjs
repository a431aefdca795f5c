// Runtime configuration. Everything secret comes from the environment.
export default {
  port: Number(process.env.PORT ?? 3000),
  databaseUrl: process.env.DATABASE_URL,
  redisUrl: process.env.REDIS_URL ?? 'redis://localhost:6379',
  jwtSecret: process.env.JWT_SECRET,
  sentryDsn: process.env.SENTRY_DSN ?? '',
  mailchimp: {
    apiKey: process.env.MAILCHIMP_API_KEY ?? 'your-mailchimp-api-key',
    server: 'us21',
    listId: '3a29a780a8',
  },
  brevoApiKey: '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',
  featureFlags: {
    newCheckout: true,
    buildId: '6647989daaa8348587d4b3f7e967b1d9649ca217',
  },
  theme: ['#7C1510', '#FC5A5C', '#C7D186', '#7BC9C3', '#5F63A3', '#92515D'],
};
