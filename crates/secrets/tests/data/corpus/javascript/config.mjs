export default {
  mapsKey: 'AIza85HFJ-EJ4jKEIQOkrtDXtBi10Q71hA1XcW9',
  mailchimpApiKey: '0b9cd7f78df0cac5e40c02d4e518ca6e-us14',
  requestId: 'aac8d82f-01b7-2107-6047-4f36e8b53593',
  apiKey: '<your-api-key>',
  sessionSecret: process.env.SESSION_SECRET,
};
