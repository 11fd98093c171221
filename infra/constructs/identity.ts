/**
 * Who may call the API: the stack's Cognito user pool (a resource server with
 * Portolan's four scopes, an app client for CI using the client-credentials
 * grant, a hosted domain for its token URL) plus any external OIDC issuers from
 * configuration, e.g. GitHub Actions. `trustedIssuers` is what the authorizer
 * verifies tokens against.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { portolanScopes } from '#shared/auth/principal';
import type { TrustedIssuer } from '#shared/auth/token-verifier';

export interface ExternalIssuer {
  /** `https://token.actions.githubusercontent.com`, an Okta or Entra ID issuer, ... */
  issuer: string;
  /** Audiences accepted in `aud` (e.g. the one GitHub Actions jobs request). */
  audience: string[];
  /** When the issuer's JWKS is not at `<issuer>/.well-known/jwks.json`. */
  jwksUri?: string;
  /** Accept tokens whose `aud` lists several audiences. @default false */
  allowMultipleAudiences?: boolean;
}

export interface IdentityProps {
  /** Prefix of the Cognito hosted domain: `<prefix>.auth.<region>.amazoncognito.com`. Globally unique. */
  domainPrefix: string;
  /** Issuers trusted besides the user pool. @default none */
  externalIssuers?: ExternalIssuer[];
  /** Access token lifetime for CI clients. @default 15 minutes (short-lived by design) */
  accessTokenValidity?: Duration;
}

/** The resource server identifier: scopes read `portolan/catalog.read`, ... */
const resourceServerId = 'portolan';

export class Identity extends Construct {
  readonly userPool: UserPool;
  /** The app client CI uses with the client-credentials grant (all scopes but admin). */
  readonly ciClient: UserPoolClient;
  readonly tokenUrl: string;
  readonly trustedIssuers: TrustedIssuer[];

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      // Machines, not people, call Portolan: nobody signs up, and admins create any user.
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
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-COG8',
        reason:
          'No people sign in: CI uses client credentials, for which Plus-tier threat protection does nothing; self sign-up is off.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG2',
        reason:
          'No people sign in: machine clients authenticate with a client secret over the token endpoint; MFA applies to user sign-in only.',
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
    const domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    this.tokenUrl = `${domain.baseUrl()}/oauth2/token`;

    this.trustedIssuers = [
      { type: 'cognito', userPoolId: this.userPool.userPoolId, clientId: null, tokenUse: 'access' },
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
