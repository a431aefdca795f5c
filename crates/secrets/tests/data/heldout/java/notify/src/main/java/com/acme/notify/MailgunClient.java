package com.acme.notify;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

public class MailgunClient {
    private static final String DOMAIN = "mg.acme.example";
    private static final String API_KEY = "key-2681e563dfa0bc64eef8e7a2ce7f45f1";
    private final HttpClient http = HttpClient.newHttpClient();

    public int send(String to, String subject, String text) throws Exception {
        String auth = Base64.getEncoder().encodeToString(("api:" + API_KEY).getBytes(StandardCharsets.UTF_8));
        String form = "from=noreply@" + DOMAIN + "&to=" + to + "&subject=" + subject + "&text=" + text;
        HttpRequest req = HttpRequest.newBuilder(URI.create("https://api.mailgun.net/v3/" + DOMAIN + "/messages"))
                .header("Authorization", "Basic " + auth)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
