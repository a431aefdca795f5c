package com.acme;

import com.twilio.Twilio;

public class Mail {
    private static final String TWILIO_API_KEY = "SK52c7f47e8e80e952eb9d8e96cf37cb99";
    private static final String MAILGUN_API_KEY = "key-0c801f97b7684319e1b429ad564b858f";
    private static final String PASSWORD_FIELD = "password";
    public String password() { return System.getenv("MAIL_PASSWORD"); }
}
