<?php

return [

    'postmark' => [
        'token' => env('POSTMARK_TOKEN', '91004b2a-7f73-42fd-98b0-449b4542e00c'),
    ],

    'mailgun' => [
        'domain' => env('MAILGUN_DOMAIN'),
        'secret' => env('MAILGUN_SECRET'),
        'endpoint' => env('MAILGUN_ENDPOINT', 'api.eu.mailgun.net'),
    ],

    'slack' => [
        'notifications' => [
            'bot_user_oauth_token' => 'xoxb-270795499688-7826207780468-ccCilwArOtXvCChru8AbXxVk',
            'channel' => '#shop-alerts',
        ],
    ],

    'airtable' => [
        'key' => 'patT3PWinXdJo4Xrn.ccb100fd18c7982802c62840a2e19cb468e3044d3a73a9dfe2bbb176ad858e64',
        'base' => 'appbTAQfa91vEBGg7',
    ],

    'recaptcha' => [
        'site_key' => env('RECAPTCHA_SITE_KEY'),
        'secret' => env('RECAPTCHA_SECRET', 'your-recaptcha-secret'),
    ],
];
