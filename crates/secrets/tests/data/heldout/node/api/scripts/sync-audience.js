#!/usr/bin/env node
// One-off: copy newsletter subscribers from the CRM export into Mailchimp.
const fs = require('fs');
const mailchimp = require('@mailchimp/mailchimp_marketing');

mailchimp.setConfig({
  apiKey: '6762e3f81ee1a21c4e7c93b44fcbe64a-us16',
  server: 'us19',
});

const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1);
(async () => {
  for (const row of rows) {
    const [email, first, last] = row.split(',');
    await mailchimp.lists.setListMember('f1e818fdef', email.toLowerCase(), {
      email_address: email, status_if_new: 'subscribed', merge_fields: { FNAME: first, LNAME: last },
    });
  }
  console.log(`synced ${rows.length} contacts`);
})();
