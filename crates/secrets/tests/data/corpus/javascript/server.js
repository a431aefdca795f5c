const express = require('express');
const app = express();

const SENDGRID_API_KEY = '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';
const slackHook = "https://hooks.slack.com/services/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";
const dbPassword = process.env.DB_PASSWORD;
const port = process.env.PORT || 3000;
app.get('/health', (req, res) => res.send('ok'));
app.listen(port);
