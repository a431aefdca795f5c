package io.acme

val notionToken = "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"
const val SONAR_TOKEN = "sqp_5e1db7e9e779f6bee9cd56481fb339258e4d27eb"
fun main() = println("hi")
