//! The configuration of Argo Rollouts' Gateway API traffic router plugin
//! (`trafficRouting.plugins["argoproj-labs/gatewayAPI"]`, the `GatewayAPITrafficRouting` type of
//! argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi), read as that plugin reads it so
//! manifests written for it work unchanged. Sluice serves it natively: no plugin binary.

use serde::{Deserialize, Serialize};

use super::RolloutTrafficRouting;

/// The plugin name users write under `trafficRouting.plugins`.
pub const GATEWAY_API_PLUGIN: &str = "argoproj-labs/gatewayAPI";

/// One route in the plugin's list form (`httpRoutes: [{name, useHeaderRoutes}]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRouteRef {
    /// Route name.
    pub name: String,
    /// Whether header-based routes of `setHeaderRoute` steps go to this route.
    #[serde(default)]
    pub use_header_routes: bool,
}

/// The plugin's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayApiConfig {
    /// One HTTPRoute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<String>,
    /// Several HTTPRoutes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_routes: Vec<GatewayRouteRef>,
    /// One GRPCRoute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_route: Option<String>,
    /// Several GRPCRoutes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc_routes: Vec<GatewayRouteRef>,
    /// One TCPRoute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_route: Option<String>,
    /// Several TCPRoutes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tcp_routes: Vec<GatewayRouteRef>,
    /// Namespace of the routes; defaults to the Rollout's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The plugin's ConfigMap for its own bookkeeping of header routes (accepted, not needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
}

/// The kind of a Gateway API route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GatewayRouteKind {
    /// `HTTPRoute` (`gateway.networking.k8s.io/v1`).
    Http,
    /// `GRPCRoute` (`gateway.networking.k8s.io/v1`).
    Grpc,
    /// `TCPRoute` (`gateway.networking.k8s.io/v1alpha2`, experimental channel).
    Tcp,
}

impl GatewayRouteKind {
    /// The kind's name.
    #[must_use]
    pub fn kind(self) -> &'static str {
        match self {
            Self::Http => "HTTPRoute",
            Self::Grpc => "GRPCRoute",
            Self::Tcp => "TCPRoute",
        }
    }

    /// The resource's plural.
    #[must_use]
    pub fn plural(self) -> &'static str {
        match self {
            Self::Http => "httproutes",
            Self::Grpc => "grpcroutes",
            Self::Tcp => "tcproutes",
        }
    }

    /// The API version served for it.
    #[must_use]
    pub fn version(self) -> &'static str {
        match self {
            Self::Http | Self::Grpc => "v1",
            Self::Tcp => "v1alpha2",
        }
    }
}

impl GatewayApiConfig {
    /// Every route named, by kind, in the order written (single form first).
    #[must_use]
    pub fn routes(&self) -> Vec<(GatewayRouteKind, String)> {
        let mut all = Vec::new();
        let mut add = |kind, one: &Option<String>, many: &[GatewayRouteRef]| {
            all.extend(one.iter().map(|name| (kind, name.clone())));
            all.extend(many.iter().map(|r| (kind, r.name.clone())));
        };
        add(GatewayRouteKind::Http, &self.http_route, &self.http_routes);
        add(GatewayRouteKind::Grpc, &self.grpc_route, &self.grpc_routes);
        add(GatewayRouteKind::Tcp, &self.tcp_route, &self.tcp_routes);
        all
    }
}

impl RolloutTrafficRouting {
    /// The Gateway API plugin's configuration, if the plugin is configured: `Err` names what does
    /// not parse.
    #[must_use]
    pub fn gateway_api(&self) -> Option<Result<GatewayApiConfig, String>> {
        let config = self.plugins.as_ref()?.get(GATEWAY_API_PLUGIN)?;
        Some(serde_json::from_value(config.clone()).map_err(|e| e.to_string()))
    }

    /// Plugins named that Sluice does not serve.
    #[must_use]
    pub fn unknown_plugins(&self) -> Vec<&str> {
        self.plugins
            .iter()
            .flatten()
            .map(|(name, _)| name.as_str())
            .filter(|name| *name != GATEWAY_API_PLUGIN)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn routing(config: serde_json::Value) -> RolloutTrafficRouting {
        serde_json::from_value(json!({"plugins": {GATEWAY_API_PLUGIN: config, "acme/other": {}}})).unwrap()
    }

    #[test]
    fn the_plugins_single_and_list_forms_name_every_route() {
        let config = routing(json!({
            "httpRoute": "web", "httpRoutes": [{"name": "api", "useHeaderRoutes": true}],
            "grpcRoute": "rpc", "namespace": "edge"
        }))
        .gateway_api()
        .unwrap()
        .unwrap();
        assert_eq!(
            config.routes(),
            [
                (GatewayRouteKind::Http, "web".to_owned()),
                (GatewayRouteKind::Http, "api".to_owned()),
                (GatewayRouteKind::Grpc, "rpc".to_owned())
            ]
        );
        assert_eq!(config.namespace.as_deref(), Some("edge"));
        assert!(config.http_routes[0].use_header_routes);
    }

    #[test]
    fn a_misspelt_field_is_an_error_and_other_plugins_are_listed() {
        let r = routing(json!({"httpRoot": "web"}));
        assert!(r.gateway_api().unwrap().unwrap_err().contains("httpRoot"));
        assert_eq!(r.unknown_plugins(), ["acme/other"]);
        assert!(RolloutTrafficRouting::default().gateway_api().is_none());
    }
}
