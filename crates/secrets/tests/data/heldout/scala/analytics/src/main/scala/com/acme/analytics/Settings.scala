package com.acme.analytics

import com.typesafe.config.ConfigFactory

object Settings {
  private val conf = ConfigFactory.load()

  val datadogApiKey: String = sys.env.getOrElse("DD_API_KEY", "b4aee3f463af0cb28de93c60b49dd44f")
  val datadogAppKey: String = "787b5ef8eb2b2ca514c0fc6910db54c5d1680293"
  val databricksHost = "https://adb-9479667775127777.7.azuredatabricks.net"
  val databricksToken = "dapi020d9368b08aaea315047675b03de94a"
  val jiraToken = "ATATT3xFfGF0eN48PFJe5SuGpUK10aSLUZA6ouUTWjN4gO9KP-1NZyYUqUrwIAyBdWb28JE37QWXHNoU0xquObtulY58P8-KijyFh7SasJZZ8ltm15EVXabecePP71T1Hw4IT9FV7D0u5z1lh6s3x6iJHQIRMXnwynysfMM0fTj3ljA1ySkFe0-=BD94701B"
  val jiraUser = "analytics-bot@acme.example"

  val sparkMaster: String = conf.getString("spark.master")
  val checkpointDir: String = conf.getString("analytics.checkpoint-dir")
  val schemaFingerprint = "0cc9615f74e9f2ebaecfff989592176f10b4d41c29a285b346c5ee7a930eec45"
}
