'use strict';

const express = require('express');
const sgMail = require('@sendgrid/mail');
const Stripe = require('stripe');
const { IncomingWebhook } = require('@slack/webhook');

const app = express();
app.use(express.json({ limit: '1mb' }));

sgMail.setApiKey('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');
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY || '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', { apiVersion: '2024-06-20' });
const alerts = new IncomingWebhook('https://hooks.slack.com/services/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');

const STRIPE_PUBLISHABLE_KEY = 'pk_live_HNCUDBzYzvXyyUlSknkfXtHUWzDc04sxrQLHx6SquRiZxZvuVqnC5yZ98XVqr60dzUtKoXv2R19SjXkLE3uA3knGa0PaZ04tOkC';
const REQUEST_ID_HEADER = 'x-request-id';

app.post('/checkout', async (req, res) => {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: req.body.items,
    success_url: 'https://shop.acme.example/thanks',
    cancel_url: 'https://shop.acme.example/cart',
  });
  res.json({ id: session.id, publishableKey: STRIPE_PUBLISHABLE_KEY });
});

app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), (req, res) => {
  const sig = req.headers['stripe-signature'];
  const event = stripe.webhooks.constructEvent(req.body, sig, 'whsec_744pTAP60tyMQNicfMnVDlFvP8vZJGHm');
  if (event.type === 'charge.failed') {
    alerts.send({ text: `charge failed: ${event.data.object.id}` });
  }
  res.sendStatus(200);
});

app.post('/contact', async (req, res) => {
  await sgMail.send({ to: 'support@acme.example', from: 'noreply@acme.example', subject: req.body.subject, text: req.body.text });
  res.status(202).end();
});

app.listen(process.env.PORT || 3000, () => console.log('api listening'));
