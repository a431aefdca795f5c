region          = "eu-west-1"
datadog_api_key = "d6ebeca732ff96c0940cbb141b494b9f"
datadog_app_key = "6d65a508472ab169ea313929fa8a98a9318be97c"
do_token        = "dop_v1_640448898012547cbf3ef8d6b362bb01f24df87f77e9992b36889ae037d53cc7"
grafana_auth    = "glsa_gbneViBFx5B7G2FFxKOZ5cyYA6j3yFX8_b162e1bd"
tags = {
  owner       = "platform"
  cost_center = "4410"
}
