/**
 * Who may call the API: the stack's Cognito user pool (a resource server with
 * Portolan's four scopes, an app client for CI using the client-credentials
 * grant, a hosted domain for its token URL) plus any external OIDC issuers from
 * configuration, e.g. GitHub Actions. `trustedIssuers` is what the authorizer
 * verifies tokens against.
 *
 * People sign in when the company's identity providers are configured: the
 * pool federates them (SAML or OIDC), a public app client signs people in with
 * authorization code + PKCE through managed login, and a pre-token-generation
 * trigger puts their groups (`<idp-name>:<group>`), email and name into the
 * access token.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  FeaturePlan,
  LambdaVersion,
  ManagedLoginVersion,
  OAuthScope,
  ResourceServerScope,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolOperation,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { addIdentityProvider, type IdentityProviderConfig } from '#infra/constructs/identity-providers';
import { PortolanFunction } from '#infra/constructs/portolan-function';
import { checkDuration, checkPattern } from '#infra/constructs/prop-checks';
import { portolanScopes } from '#shared/auth/principal';
import type { TrustedIssuer } from '#shared/auth/token-verifier';
import { serviceNames } from '#shared/metrics/metric-names';

export interface ExternalIssuer {
  /** `https://token.actions.githubusercontent.com`, an Okta or Entra ID issuer, ... */
  readonly issuer: string;
  /** Audiences accepted in `aud` (e.g. the one GitHub Actions jobs request). */
  readonly audience: string[];
  /** When the issuer's JWKS is not at `<issuer>/.well-known/jwks.json`. */
  readonly jwksUri?: string;
  /** Accept tokens whose `aud` lists several audiences. @default false */
  readonly allowMultipleAudiences?: boolean;
}

export interface IdentityProps {
  /** Prefix of the Cognito hosted domain: `<prefix>.auth.<region>.amazoncognito.com`. Globally unique; lowercase letters, digits and hyphens. */
  readonly domainPrefix: string;
  /** Issuers trusted besides the user pool. @default none */
  readonly externalIssuers?: ExternalIssuer[];
  /** Access token lifetime for CI clients, 5 minutes to 1 day. @default 15 minutes (short-lived by design) */
  readonly accessTokenValidity?: Duration;
  /** The company's identity providers people sign in through. @default none: only machines get tokens */
  readonly identityProviders?: IdentityProviderConfig[];
  /** The people app client; created when an identity provider is configured or `cognitoUsers` is set. */
  readonly people?: PeopleSignInProps;
  /** Retention of the pre-token trigger's logs. @default one month */
  readonly logRetention?: RetentionDays;
}

export interface PeopleSignInProps {
  /** Where managed login may redirect with the code. @default the CLI's loopback: http://localhost:8400/callback (`portolan login --callback-url`) */
  readonly callbackUrls?: string[];
  /** Where sign-out may redirect. @default the callback URLs */
  readonly logoutUrls?: string[];
  /** How long a person stays signed in without signing in at the IdP again, 1 hour to 3650 days. @default 30 days */
  readonly refreshTokenValidity?: Duration;
  /** Also let users of the pool itself sign in (admin-created; their Cognito groups become `cognito:<group>`). @default false */
  readonly cognitoUsers?: boolean;
}

/** Refuses props Cognito would refuse at deploy, naming the prop. */
function checkIdentityProps(props: IdentityProps): void {
  checkPattern(
    'Identity',
    'domainPrefix',
    props.domainPrefix,
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and hyphens (1-63, not starting or ending with a hyphen)',
  );
  checkDuration('Identity', 'accessTokenValidity', props.accessTokenValidity, 'minutes', 5, 1440);
  checkDuration(
    'Identity',
    'people.refreshTokenValidity',
    props.people?.refreshTokenValidity,
    'minutes',
    60,
    3650 * 1440,
  );
}

/** Cognito allows plain http only for `localhost`, and compares redirect URIs exactly, port included. */
export const defaultPeopleCallbackUrls = ['http://localhost:8400/callback'];
/** People's access and ID tokens: short, since every request re-reads permissions from them. */
export const peopleAccessTokenValidity = Duration.hours(1);

/** The resource server identifier: scopes read `portolan/catalog.read`, ... */
const resourceServerId = 'portolan';

export class Identity extends Construct {
  readonly userPool: UserPool;
  /** The app client CI uses with the client-credentials grant (all scopes but admin). */
  readonly ciClient: UserPoolClient;
  /** The public app client people sign in with (authorization code + PKCE), when people sign in. */
  readonly peopleClient?: UserPoolClient;
  /** The pre-token-generation trigger, when people sign in. */
  readonly preTokenFunction?: PortolanFunction;
  /** `https://<prefix>.auth.<region>.amazoncognito.com`: managed login and the OAuth endpoints. */
  readonly domainUrl: string;
  readonly tokenUrl: string;
  readonly trustedIssuers: TrustedIssuer[];

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    checkIdentityProps(props);
    const identityProviders = props.identityProviders ?? [];
    const peopleSignIn = identityProviders.length > 0 || props.people?.cognitoUsers === true;
    this.userPool = new UserPool(this, 'UserPool', {
      // Nobody signs up: people come through the company's IdP, admins create any other user.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Where the IdP's groups land (2048 characters at most, Cognito's limit). Always declared:
      // a pool cannot drop a custom attribute, so turning federation off and on again must not try.
      customAttributes: { groups: new StringAttribute({ maxLen: 2048, mutable: true }) },
      // Essentials: the pre-token-generation trigger may customise access tokens (event version 2) only
      // from this plan up. Lite cannot.
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-COG8',
        reason: peopleSignIn
          ? 'People authenticate at the company IdP, whose own risk checks apply; Plus-tier threat protection covers Cognito passwords only, and self sign-up is off.'
          : 'No people sign in: CI uses client credentials, for which Plus-tier threat protection does nothing; self sign-up is off.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG2',
        reason: peopleSignIn
          ? "People authenticate at the company IdP, which enforces the company's MFA; pool users exist only if an admin creates them (cognitoUsers)."
          : 'No people sign in: machine clients authenticate with a client secret over the token endpoint; MFA applies to user sign-in only.',
      },
    );
    const resourceServer = new UserPoolResourceServer(this, 'ResourceServer', {
      userPool: this.userPool,
      identifier: resourceServerId,
      scopes: portolanScopes.map(
        (scope) =>
          new ResourceServerScope({
            scopeName: scope.split('/')[1] as string,
            scopeDescription: `Portolan ${scope}`,
          }),
      ),
    });
    const scopeOf = (name: string) =>
      OAuthScope.resourceServer(
        resourceServer,
        new ResourceServerScope({ scopeName: name, scopeDescription: name }),
      );
    this.ciClient = this.userPool.addClient('CiClient', {
      generateSecret: true,
      authFlows: {},
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [scopeOf('catalog.read'), scopeOf('catalog.write')],
      },
      accessTokenValidity: props.accessTokenValidity ?? Duration.minutes(15),
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
    });
    this.ciClient.node.addDependency(resourceServer);
    const domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      ...(peopleSignIn ? { managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN } : {}),
    });
    this.domainUrl = domain.baseUrl();
    this.tokenUrl = `${this.domainUrl}/oauth2/token`;

    if (peopleSignIn) {
      const people = props.people ?? {};
      const providers = identityProviders.map((config) => addIdentityProvider(this, this.userPool, config));
      const callbackUrls = people.callbackUrls ?? defaultPeopleCallbackUrls;
      this.peopleClient = this.userPool.addClient('PeopleClient', {
        // Public: a CLI or a browser cannot keep a secret; PKCE protects the code instead.
        generateSecret: false,
        authFlows: {},
        oAuth: {
          flows: { authorizationCodeGrant: true },
          // Reading the catalog is every employee's; writing comes from team and admin policies on `groups`.
          scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, scopeOf('catalog.read')],
          callbackUrls,
          logoutUrls: people.logoutUrls ?? callbackUrls,
        },
        supportedIdentityProviders: [
          ...providers.map((provider) => UserPoolClientIdentityProvider.custom(provider.providerName)),
          ...(people.cognitoUsers ? [UserPoolClientIdentityProvider.COGNITO] : []),
        ],
        accessTokenValidity: peopleAccessTokenValidity,
        idTokenValidity: peopleAccessTokenValidity,
        refreshTokenValidity: people.refreshTokenValidity ?? Duration.days(30),
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
      });
      this.peopleClient.node.addDependency(resourceServer);
      for (const provider of providers) this.peopleClient.node.addDependency(provider);
      // Managed login (version 2) shows an error page to a client without a style: Cognito's default one.
      new CfnManagedLoginBranding(this, 'PeopleLoginBranding', {
        userPoolId: this.userPool.userPoolId,
        clientId: this.peopleClient.userPoolClientId,
        useCognitoProvidedValues: true,
      });

      this.preTokenFunction = new PortolanFunction(this, 'PreToken', {
        entry: 'functions/pre-token/handler.ts',
        serviceName: serviceNames.preToken,
        description: 'Portolan pre-token-generation trigger (people: groups, email, name)',
        // 128 MB: string handling on one small event; Cognito waits at most 5 s for a trigger.
        memorySize: 128,
        timeout: Duration.seconds(5),
        environment: { IDENTITY_PROVIDERS: JSON.stringify(identityProviders.map((idp) => idp.name)) },
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
      this.userPool.addTrigger(
        UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
        this.preTokenFunction,
        LambdaVersion.V2_0,
      );
    }

    this.trustedIssuers = [
      {
        type: 'cognito',
        userPoolId: this.userPool.userPoolId,
        // This stack's clients only: an app client added to the pool by hand gets no access by accident.
        clientId: [this.ciClient, this.peopleClient]
          .filter((client): client is UserPoolClient => client !== undefined)
          .map((client) => client.userPoolClientId),
        tokenUse: 'access',
      },
      ...(props.externalIssuers ?? []).map(
        (issuer): TrustedIssuer => ({
          type: 'oidc',
          issuer: issuer.issuer,
          audience: issuer.audience,
          ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}),
          ...(issuer.allowMultipleAudiences ? { allowMultipleAudiences: true } : {}),
        }),
      ),
    ];
  }
}
