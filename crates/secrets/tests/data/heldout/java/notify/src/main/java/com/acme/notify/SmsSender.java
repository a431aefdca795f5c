package com.acme.notify;

import com.twilio.Twilio;
import com.twilio.rest.api.v2010.account.Message;
import com.twilio.type.PhoneNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class SmsSender {
    private static final Logger LOG = LoggerFactory.getLogger(SmsSender.class);

    // Account SID identifies the account; it is not a credential on its own.
    private static final String ACCOUNT_SID = "AC51ca1f672a526eaa8801d905648b7c04";
    private static final String API_KEY_SID = "SK0b35e8394fe6270d3f5039b8065325a1";
    private static final String API_KEY_SECRET = "bF48x5BP5f05XbLp8tW9J35NYlolS8Fg";
    private static final String FROM = "+15017122661";
    private static final long serialVersionUID = 4_872_115_903_201L;

    static {
        Twilio.init(API_KEY_SID, API_KEY_SECRET, ACCOUNT_SID);
    }

    public String send(String to, String body) {
        Message message = Message.creator(new PhoneNumber(to), new PhoneNumber(FROM), body).create();
        LOG.info("sent sms {} status={}", message.getSid(), message.getStatus());
        return message.getSid();
    }
}
