<?php
return [
    'db_password' => 'VeECX*GLgC&39',
    'postman_key' => 'PMAK-19e01fcd3fe22a4248ac9ed3-36de7daecd3ada8b4f2222d3b41a3dbd19',
    'db_user' => 'shop',
    'mail_password' => getenv('MAIL_PASSWORD'),
];
