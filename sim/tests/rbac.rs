//! Authentication and RBAC with kube-rs clients (`SimOptions::authz`): a ServiceAccount token from
//! the TokenRequest API acts as its account, RBAC rules decide with kube-apiserver's 403 Status,
//! unknown tokens get 401, impersonation works for admins only, and access reviews answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ServiceAccount};
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::json;
use sim::{Sim, SimOptions};

const RBAC: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"]}
- {apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-pods, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: default}
"#;

async fn apply_all(client: &kube::Client, yaml: &str) {
    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    for doc in crds::yaml::values(yaml).unwrap() {
        let object: kube::api::DynamicObject = serde_json::from_value(doc).unwrap();
        let gvk = kube::api::GroupVersionKind::try_from(object.types.as_ref().unwrap()).unwrap();
        let (resource, _) = discovery.resolve_gvk(&gvk).unwrap();
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
        api.create(&PostParams::default(), &object).await.unwrap();
    }
}

async fn token_for(client: &kube::Client, account: &str) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let request: TokenRequest = serde_json::from_value(json!({"spec": {"audiences": []}})).unwrap();
    let issued = accounts
        .create_token_request(account, &PostParams::default(), &request)
        .await
        .unwrap();
    issued.status.unwrap().token.unwrap()
}

fn status_of(error: kube::Error) -> (u16, String, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason, status.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_service_account_token_is_held_to_its_rbac_rules() {
    let sim = Sim::start_with(&SimOptions {
        authz: true,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    assert!(sim.url().starts_with("https://"), "authorization implies TLS");
    let admin = sim.client().unwrap();
    apply_all(&admin, RBAC).await;
    let configs: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");
    for name in ["settings", "other"] {
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "b"}})).unwrap();
        configs.create(&PostParams::default(), &cm).await.unwrap();
    }
    let reader = sim.client_as(&token_for(&admin, "reader").await).unwrap();

    // Allowed by the Role: list pods, get the one named ConfigMap.
    let pods: Api<Pod> = Api::namespaced(reader.clone(), "default");
    pods.list(&ListParams::default()).await.unwrap();
    let named: Api<ConfigMap> = Api::namespaced(reader.clone(), "default");
    named.get("settings").await.unwrap();

    // Refused, with kube-apiserver's reason and message.
    let who = "system:serviceaccount:default:reader";
    let cases = [
        (
            status_of(named.get("other").await.unwrap_err()),
            format!(
                "configmaps \"other\" is forbidden: User \"{who}\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\""
            ),
        ),
        (
            status_of(named.list(&ListParams::default()).await.unwrap_err()),
            format!(
                "configmaps is forbidden: User \"{who}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
            ),
        ),
        (
            status_of(
                Api::<Pod>::namespaced(reader.clone(), "kube-system")
                    .list(&ListParams::default())
                    .await
                    .unwrap_err(),
            ),
            format!(
                "pods is forbidden: User \"{who}\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\""
            ),
        ),
        (
            status_of(
                Api::<Pod>::namespaced(reader.clone(), "default")
                    .create(
                        &PostParams::default(),
                        &serde_json::from_value(
                            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}),
                        )
                        .unwrap(),
                    )
                    .await
                    .unwrap_err(),
            ),
            format!(
                "pods is forbidden: User \"{who}\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\""
            ),
        ),
    ];
    for ((code, reason, message), expected) in cases {
        assert_eq!((code, reason.as_str()), (403, "Forbidden"));
        assert_eq!(message, expected);
    }
    assert!(
        Api::<Pod>::namespaced(admin.clone(), "default")
            .get_opt("p")
            .await
            .unwrap()
            .is_none(),
        "nothing stored"
    );

    // An unknown token is 401.
    let stranger = sim.client_as("not-a-token").unwrap();
    let (code, reason, _) = status_of(
        Api::<Pod>::namespaced(stranger, "default")
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));

    // Access reviews answer for the requester.
    let review = |resource: &str, verb: &str| -> SelfSubjectAccessReview {
        serde_json::from_value(
            json!({"spec": {"resourceAttributes": {"namespace": "default", "verb": verb, "resource": resource}}}),
        )
        .unwrap()
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(reader.clone());
    let yes = reviews
        .create(&PostParams::default(), &review("pods", "list"))
        .await
        .unwrap();
    assert!(yes.status.unwrap().allowed);
    let no = reviews
        .create(&PostParams::default(), &review("pods", "delete"))
        .await
        .unwrap();
    assert!(!no.status.unwrap().allowed);
}

#[tokio::test]
async fn impersonation_is_for_those_allowed_to_impersonate() {
    let sim = Sim::start_with(&SimOptions {
        authz: true,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let admin = sim.client().unwrap();
    apply_all(&admin, RBAC).await;
    let as_reader = |client: &kube::Client, user: &str| {
        let request = http::Request::get("/api/v1/namespaces/default/configmaps")
            .header("impersonate-user", user)
            .body(Vec::new())
            .unwrap();
        let client = client.clone();
        async move { client.request_text(request).await }
    };
    // The administrator may impersonate: the request is then held to the reader's rules.
    let (code, _, message) = status_of(
        as_reader(&admin, "system:serviceaccount:default:reader")
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 403);
    assert!(
        message.contains("User \"system:serviceaccount:default:reader\" cannot list"),
        "{message}"
    );
    // The reader may not impersonate anyone.
    let reader = sim.client_as(&token_for(&admin, "reader").await).unwrap();
    let (code, _, message) = status_of(as_reader(&reader, "alice").await.unwrap_err());
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "users \"alice\" is forbidden: User \"system:serviceaccount:default:reader\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
}
